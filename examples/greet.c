// greet: a small WASI *reactor*, a library rather than a program. It has no main; the
// host calls its exports after _initialize (which the WASI ABI runs first, and fayasm's
// instantiate(..., wasi=WasiConfig(...)) runs for it):
//
//   lib = fayasm.instantiate(fayasm.Module.from_file("examples/greet.wasm"),
//                            wasi=fayasm.WasiConfig(env={"NAME": "Ada"}))
//   lib.exports.greet(2)    # prints "Hello, Ada! (greeting 1)", "... (greeting 2)"; 2
#include <stdio.h>
#include <stdlib.h>

static int greeted;

// Prints a greeting to the NAME in the environment; returns how many greetings so far.
__attribute__((export_name("greet"))) int greet(int times) {
    const char *name = getenv("NAME");
    for (int i = 0; i < times; i++) {
        printf("Hello, %s! (greeting %d)\n", name ? name : "world", ++greeted);
    }
    fflush(stdout);
    return greeted;
}
