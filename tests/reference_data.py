"""Where the tests find the reference data sets (MNIST, MovieLens 100K, with their checksums):
$GRADLAB_SHARED_DATA if set, else the `shared/data` folder beside the repository (as CI lays it out).
Tests that need them are skipped, with this hint, when the folder is absent."""

import os
from pathlib import Path

SHARED_DATA = Path(os.environ.get("GRADLAB_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
HINT = "set GRADLAB_SHARED_DATA to the folder that holds mnist/ and ml-100k/"
