//! The keyword registry: the one declarative source (files in `grammar/`)
//! for what each section accepts, every fetch, converter, action and CLI
//! command, and our implementation status for each.

pub mod samples;
