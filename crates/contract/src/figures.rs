//! The figure catalogue (filled in below).
