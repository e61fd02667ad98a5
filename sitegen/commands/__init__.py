"""One module per verb: each a thin orchestration of the stages, called by ``sitegen.cli``."""
