//! Runnable examples; see the `[[example]]` targets of this package.
//!
//! [`hello`] holds the definitions of the guide's hello example, shared by its worker, its
//! starter and the benchmark; [`shopping_cart`], those of the updates example.

#[path = "hello_defs.rs"]
pub mod hello;

#[path = "shopping_cart_defs.rs"]
pub mod shopping_cart;

/// The guide's Rust snippets compile (and run, where they need no server) as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../docs/guide.md")]
pub struct Guide;
