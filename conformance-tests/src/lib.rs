//! conformance-tests (under construction).
