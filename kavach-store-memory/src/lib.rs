//! kavach-store-memory (under construction).
