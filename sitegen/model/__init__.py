"""Model stages: locate the input, read its labels and signature, convert it for TF.js."""
