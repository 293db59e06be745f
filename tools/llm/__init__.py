"""Language models for the agents: settings, ChatOpenAI per role, structured replies, what an endpoint can do."""
