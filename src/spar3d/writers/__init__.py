"""Writers: SPAR-7M layout and exports to training formats."""
