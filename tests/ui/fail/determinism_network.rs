use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Example;

#[workflow]
impl Example {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>) -> WorkflowResult<()> {
        let _ = std::net::TcpStream::connect("127.0.0.1:80");
        let _ = tokio::net::lookup_host("example.com:80").await;
        Ok(())
    }
}

fn main() {}
