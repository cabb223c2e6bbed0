"""Motion data: skeletons, rotation maths, HumanML3D features, datasets and the embedded generator."""
