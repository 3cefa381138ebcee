// The dataset types live in the Datasets module, which the defense (Sanitizer) also uses
// without depending on the attacks; every user of PoisonForge sees them as before.
@_exported import Datasets
