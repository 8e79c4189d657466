//! Builds src/util/longdouble.c: INCRBYFLOAT's `long double` arithmetic, which Rust has no type for.

fn main() {
    println!("cargo:rerun-if-changed=src/util/longdouble.c");
    cc::Build::new()
        .file("src/util/longdouble.c")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("ferrokv_longdouble");
}
