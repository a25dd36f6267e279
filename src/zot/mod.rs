//! Typed model of zot's configuration file (upstream zot v2.1.x).
