"""Training-data side: read a SPAR-7M tree, build data_json indexes, mix them, load samples."""
