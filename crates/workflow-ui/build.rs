//! Points the JSON transcoder at the protobuf descriptors `temporalio-protos` builds.

fn main() {
    let path = std::env::var("DEP_TEMPORALIO_PROTOS_DESCRIPTOR_PATH")
        .expect("temporalio-protos publishes its descriptor path");
    println!("cargo:rerun-if-changed={path}");
    println!("cargo:rustc-env=TEMPORAL_PROTO_DESCRIPTORS={path}");
}
