use workflow_core::prelude::*;

pub struct Db {
    calls: u64,
}

#[activities]
impl Db {
    #[activity]
    pub async fn fetch(&mut self, _ctx: ActivityContext, id: u64) -> Result<u64, ActivityError> {
        self.calls += 1;
        Ok(id)
    }
}

fn main() {}
