using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Results;

/// <summary>
/// The record structure of a CSV text (RFC 4180): where each record starts, so messages name real lines even when a
/// quoted field spans several, and whether every quote is balanced. A quote left open would otherwise swallow every
/// row after it into one field without a word.
/// </summary>
public static class CsvRecords
{
    /// <summary>The 1-based line on which each record starts; an <see cref="InputException"/> for a quote left open or a stray quote.</summary>
    public static List<int> StartLines(string text, string path)
    {
        var starts = new List<int>();
        int line = 1, quoteLine = 0;
        bool inQuotes = false, fieldStart = true, recordStart = true;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (recordStart && !inQuotes && c is not ('\n' or '\r')) // a blank line is no record
            {
                starts.Add(line);
                recordStart = false;
            }
            if (inQuotes)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') i++;
                else if (c == '"')
                {
                    inQuotes = false;
                    if (i + 1 < text.Length && text[i + 1] is not (',' or '\n' or '\r'))
                        throw quoteLine == line
                            ? new InputException("a quoted field is followed by text before the next comma", "quote the whole field, doubling quotes inside it", path, line)
                            : new InputException($"a quote opened on line {quoteLine} runs to line {line}, swallowing the rows between into one field",
                                "close the quote (or delete the stray one)", path, quoteLine);
                }
                else if (c == '\n') line++;
                continue;
            }
            switch (c)
            {
                case '"' when fieldStart:
                    inQuotes = true;
                    quoteLine = line;
                    break;
                case '"':
                    throw new InputException("a quote inside an unquoted field", "quote the whole field, doubling quotes inside it", path, line);
                case ',':
                    fieldStart = true;
                    continue;
                case '\n':
                    line++;
                    recordStart = true;
                    fieldStart = true;
                    continue;
            }
            fieldStart = false;
        }
        if (inQuotes)
            throw new InputException($"a quote opened on line {quoteLine} is never closed, so every row after it would be read as one field",
                "close the quote (or delete the stray one)", path, quoteLine);
        return starts;
    }
}
