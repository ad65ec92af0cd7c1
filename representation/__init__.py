"""Entity representations shared by search and matching: document profiles and their
texts (with protected attributes and contacts removed) and the encoders that embed them."""
