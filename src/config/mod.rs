//! Configuration front end: text → tokens → AST (spanned) → checks → IR.

pub mod addr;
pub mod units;
