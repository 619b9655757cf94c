//! Points `Replayer::replay_json` at the protobuf descriptors `temporalio-protos` builds.

fn main() {
    if let Ok(path) = std::env::var("DEP_TEMPORALIO_PROTOS_DESCRIPTOR_PATH") {
        println!("cargo:rustc-env=TEMPORAL_PROTO_DESCRIPTORS={path}");
    }
}
