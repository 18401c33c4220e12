namespace HcrLab.Lab.External;

/// <summary>The external encoder cannot be used at all: it does not start, or its handshake is wrong. The message is one line for the user.</summary>
public sealed class ExternalEncoderException(string message) : Exception(message);
