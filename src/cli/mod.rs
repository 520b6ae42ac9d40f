//! The HAProxy-compatible command line.
