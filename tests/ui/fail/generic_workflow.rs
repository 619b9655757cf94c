use workflow_core::prelude::*;

#[workflow]
#[derive(Default)]
pub struct Generic<T> {
    value: Option<T>,
}

fn main() {}
