//! Generates the `WorkflowService` gRPC client from the descriptors `temporalio-protos`
//! builds, with every message taken from that crate. Generating the one client here, rather
//! than turning on that crate's `grpc-clients` feature, keeps the cloud, operator and test
//! service clients out of every user's build.

use prost::Message;
use prost_types_build::FileDescriptorSet;

const SERVICE_FILE: &str = "temporal/api/workflowservice/v1/service.proto";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::var("DEP_TEMPORALIO_PROTOS_DESCRIPTOR_PATH")?;
    println!("cargo:rerun-if-changed={path}");
    let mut descriptors = FileDescriptorSet::decode(std::fs::read(&path)?.as_slice())?;
    // Only the service is generated; its messages are extern.
    descriptors
        .file
        .retain(|f| f.name.as_deref() == Some(SERVICE_FILE));
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(false)
        .extern_path(".temporal.api", "::temporalio_protos::temporal::api")
        .compile_fds(descriptors)?;
    Ok(())
}
