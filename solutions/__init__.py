"""Reference solutions of the Backprop Lab exercises: the single source of stubs and notebooks."""
