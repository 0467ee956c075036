"""One module per rule family. Each is a pure function of the Instance and the Config (and the
placement variables it constrains) that returns rows and objective terms; its maths opens the module."""
