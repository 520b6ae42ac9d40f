//! The keyword registry: the one declarative source (files in `grammar/`)
//! for what each section accepts, every fetch, converter, action and CLI
//! command, and our implementation status for each.

pub mod dump;
pub mod keywords;
pub mod samples;
pub mod suggest;

#[cfg(test)]
mod tests;

pub use dump::dump_classes;
pub use keywords::{
    ActionDef, ArgKw, CliDef, Keyword, OptionDef, Registry, Section, Status, registry,
};
