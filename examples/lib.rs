//! Runnable examples; see the `[[example]]` targets of this package.
//!
//! [`hello`] holds the definitions of the guide's hello example, shared by its worker, its
//! starter and the benchmark.

#[path = "hello_defs.rs"]
pub mod hello;
