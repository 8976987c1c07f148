"""The local web chat: static page, conversation API and the outbound inbox it polls."""
