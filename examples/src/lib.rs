//! Shared helpers of the example middleboxes.
#![forbid(unsafe_code)]
