//! Several apps on one runtime (owned by the macros work).
