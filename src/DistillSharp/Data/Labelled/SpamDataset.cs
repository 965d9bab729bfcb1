namespace DistillSharp.Data.Labelled;

/// <summary>
/// The <c>spam</c> dataset: SpamAssassin mails (subject and readable body) labelled <c>ham</c> or
/// <c>spam</c>, for a fine-tuned classifier. Mail texts are cut to <see cref="MaxChars"/> characters
/// before tokenizing (the tokenizer then truncates to the model's length; both are counted).
/// </summary>
public static class SpamDataset
{
    /// <summary>The dataset's name.</summary>
    public const string Name = "spam";

    /// <summary>Labels: ham = 0, spam = 1.</summary>
    public static IReadOnlyList<string> Labels { get; } = ["ham", "spam"];

    /// <summary>Characters of a mail kept before tokenizing.</summary>
    public const int MaxChars = 2000;

    /// <summary>Builds the dataset from labelled mails (ids are mail ids).</summary>
    public static LabelledDataset Build(IReadOnlyList<LabelledMail> mails)
    {
        var items = new List<LabelledText>(mails.Count);
        int cut = 0, blank = 0;
        foreach (var mail in mails)
        {
            string text = WhitespaceNormalizer.SingleLine(mail.Text);
            if (text.Length == 0) { blank++; continue; }
            if (text.Length > MaxChars) { text = text[..MaxChars]; cut++; }
            items.Add(new LabelledText(mail.Id, text, mail.IsSpam ? "spam" : "ham"));
        }
        var notes = new List<string> { $"{items.Count} SpamAssassin mails; {cut} cut to {MaxChars} characters before tokenizing" };
        if (blank > 0) notes.Add($"{blank} mails without readable text skipped");
        return new LabelledDataset(Name, items, Labels, notes).Deduplicated().Validate();
    }
}
