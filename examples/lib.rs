//! Runnable examples; see the `[[example]]` targets of this package.
//!
//! [`hello`] holds the definitions of the guide's hello example, shared by its worker, its
//! starter and the benchmark.

#[path = "hello_defs.rs"]
pub mod hello;

/// The guide's Rust snippets compile (and run, where they need no server) as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../docs/guide.md")]
pub struct Guide;
