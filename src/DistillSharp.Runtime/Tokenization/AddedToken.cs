namespace DistillSharp.Runtime.Tokenization;

/// <summary>A token matched literally before BPE (tokenizer.json "added_tokens"); special ones mark control tokens like end-of-text.</summary>
public sealed record AddedToken(int Id, string Content, bool Special = true);
