//! Time and size units.
