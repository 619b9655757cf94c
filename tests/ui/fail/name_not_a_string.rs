use workflow_core::prelude::*;

#[workflow(name = Greeter)]
#[derive(Default)]
pub struct Greeter;

fn main() {}
