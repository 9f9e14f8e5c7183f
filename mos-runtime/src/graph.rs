//! The event graph of an app as data and as Graphviz DOT (owned by the macros work).
