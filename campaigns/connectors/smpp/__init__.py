"""The SMPP 3.4 client connector: wire encoding, PDUs, sessions and the `smpp_worker` process that holds binds."""
