"""Error types shared by every package, so callers can catch bad input by kind, not by framework.

Each error's message names the problem precisely (file, column, row, key, layer, gate, shape);
these classes only say which family of input was wrong.
"""


class RnnParityError(ValueError):
    """Base class for every input problem rnn-parity reports itself."""


class DataError(RnnParityError):
    """A data file, series, split or windowing request that cannot be used as given."""


class SpecError(RnnParityError):
    """A model or training spec (or its JSON) that is malformed or out of range."""


class WeightFormatError(RnnParityError):
    """Canonical weights (or a weight file) that do not fit their spec."""


class ModelFileError(RnnParityError):
    """A framework model file that cannot be loaded safely or holds something outside the specs."""
