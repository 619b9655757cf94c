//! Generates the `WorkflowService` server trait from the descriptors `temporalio-protos`
//! builds, with every message taken from that crate: no `.proto` file lives in this repo.

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
        .build_client(false)
        .build_server(true)
        .generate_default_stubs(true)
        .extern_path(".temporal.api", "::temporalio_protos::temporal::api")
        .compile_fds(descriptors)?;
    Ok(())
}
