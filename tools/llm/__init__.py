"""Language models for the agents: settings, the ChatOpenAI factory, structured replies, token use."""
