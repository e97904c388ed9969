//! kavach-store-mysql (under construction).
