using System.Globalization;
using CsvHelper;
using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Results;

/// <summary>Reads and appends cells.csv. Rows are flushed one by one, so an interrupted run loses no finished cell.</summary>
public static class CellsCsv
{
    public const string FileName = "cells.csv";

    private static CsvWriterOptions WriterOptions => new() { FormatProvider = CultureInfo.InvariantCulture, NewLine = "\n" };

    private static CsvReaderOptions ReaderOptions => new() { FormatProvider = CultureInfo.InvariantCulture };

    /// <summary>
    /// Every complete row of a cells.csv, matched to columns by header name. A last line cut off by a kill (no final
    /// newline) is dropped and reported through <paramref name="truncated"/>; a row that cannot be read is an input
    /// error naming its line.
    /// </summary>
    public static List<CellRow> Read(string path, out bool truncated)
    {
        truncated = false;
        if (!File.Exists(path)) throw new InputException($"{path} does not exist", "give a results folder written by `run`");
        string text = File.ReadAllText(path);
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            text = text[..(text.LastIndexOf('\n') + 1)];
            truncated = true;
        }
        var rows = new List<CellRow>();
        // A run killed before its header was complete has no rows yet; resuming it starts from the beginning.
        if (text.Length == 0) return rows;
        using var reader = CsvReader.FromText(text, ReaderOptions);
        try
        {
            foreach (var row in reader.GetRecords<CellRow>())
            {
                if (string.IsNullOrEmpty(row.CellId))
                    throw new InputException($"row {rows.Count + 2} has no cell_id", "repair or delete that row, or re-run the matrix", path, rows.Count + 2);
                rows.Add(row.WithEmptyStringsForMissingColumns());
            }
        }
        catch (KeyNotFoundException e) when (rows.Count == 0)
        {
            // The generated mapper checks the header before the first row: a column this version reads is missing.
            throw new InputException($"the header lacks columns that cells.csv must have ({e.Message})",
                "re-run the matrix with this version of the harness, or add the missing columns to the header", path, 1);
        }
        catch (Exception e) when (e is FormatException or CsvFormatException or CsvValidationException or InvalidOperationException)
        {
            throw new InputException($"row {rows.Count + 2} cannot be read ({e.Message})",
                "repair or delete that row (the header names the columns), or re-run the matrix", path, rows.Count + 2);
        }
        return rows;
    }

    public static List<CellRow> Read(string path) => Read(path, out _);

    /// <summary>Writes all rows (header included), replacing the file in one step: a kill mid-write leaves the old file.</summary>
    public static void Write(string path, IEnumerable<CellRow> rows)
    {
        string partial = path + ".partial";
        using (var writer = CsvWriter.Create(new StreamWriter(partial, append: false), WriterOptions, leaveOpen: false))
        {
            writer.WriteHeader<CellRow>();
            foreach (var row in rows) writer.WriteRecord(row);
        }
        File.Move(partial, path, overwrite: true);
    }

    /// <summary>An appender that writes the header for a new file and flushes after every row.</summary>
    public static Appender Append(string path) => new(path);

    public sealed class Appender : IDisposable
    {
        private readonly StreamWriter _stream;
        private readonly CsvWriter _csv;

        internal Appender(string path)
        {
            bool fresh = !File.Exists(path) || new FileInfo(path).Length == 0;
            _stream = new StreamWriter(path, append: true);
            _csv = CsvWriter.Create(_stream, WriterOptions, leaveOpen: true);
            if (!fresh) return;
            _csv.WriteHeader<CellRow>();
            Flush();
        }

        public void Write(CellRow row)
        {
            _csv.WriteRecord(row);
            Flush();
        }

        private void Flush()
        {
            _csv.Flush();
            _stream.Flush();
        }

        public void Dispose()
        {
            _csv.Dispose();
            _stream.Dispose();
        }
    }
}
