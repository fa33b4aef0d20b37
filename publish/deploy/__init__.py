"""Running the server on several machines: the configuration of the nginx in front of the nodes
(nginx) and the `deploy` subcommand that prints it (command). deploy/README.md tells the rest."""
