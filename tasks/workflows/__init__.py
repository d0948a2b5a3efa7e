"""What a user asks for, as plain functions that return an `Outcome`: build, start the stack,
verify it, probe the MCP servers, back up and restore volumes, and `up`, which runs them in
turn. A task parses its options, calls one workflow and presents the result; the workflows
combine the model, the plans and the engine, and decide nothing about exits."""
