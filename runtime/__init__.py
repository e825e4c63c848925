"""What running WebAssembly needs, for every engine: types, values, memories, tables,
globals, traps, exact numerics, host calls, WASI. Imports nothing from the rest of fayasm,
so code that fayasm generates can depend on this package alone."""
