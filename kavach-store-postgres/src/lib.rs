//! kavach-store-postgres (under construction).
