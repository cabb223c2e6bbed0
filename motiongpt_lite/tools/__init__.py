"""Tooling around the course, not the model: the classroom tools (student copies, progress, notebook lint), the
notebook checker (every notebook top to bottom in fresh kernels) and the speed benchmarks. Nothing in the library's
layers below (data, vq, lm, eval, api) imports from here."""
