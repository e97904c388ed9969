//! kavach-store-sqlite (under construction).
