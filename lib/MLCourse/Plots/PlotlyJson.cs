using System.Buffers;
using System.Collections;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Plotly.NET;

namespace MLCourse.Plots;

/// <summary>
/// Writes a Plotly.NET chart's data, layout and config as JSON, fast. Plotly.NET's own serializer (Newtonsoft over
/// dynamic objects) took ~90 ms for a 50-point line on the course machine, most of it re-serializing the same default
/// template for every chart; a notebook with a chart per cell felt it. This walks the same dynamic objects with a
/// <see cref="Utf8JsonWriter"/> and keeps the JSON of shared sub-objects (the template) once per object. Values it does
/// not know are handed to Newtonsoft, so the output has the same meaning as <c>GenericChart.toChartHTML</c>'s.
/// NaN and infinities become null (plotly.js draws gaps there).
/// </summary>
public static class PlotlyJson
{
    private static readonly ConditionalWeakTable<object, string> cachedJson = new();

    /// <summary>The three JSON texts plotly.js's <c>Plotly.newPlot(div, data, layout, config)</c> takes.</summary>
    public static (string Data, string Layout, string Config) Serialize(GenericChart chart)
    {
        var traces = GenericChart.getTraces(chart).Cast<object>().ToList();
        return (Write(writer => WriteValue(writer, traces, 0)), Write(writer => WriteValue(writer, GenericChart.getLayout(chart), 0)),
                Write(writer => WriteValue(writer, GenericChart.getConfig(chart), 0)));
    }

    /// <summary>The chart as an HTML fragment: a div and a script that defines and calls a <c>renderPlotly_…</c> function.</summary>
    public static string Html(GenericChart chart)
    {
        var (data, layout, config) = Serialize(chart);
        var id = Guid.NewGuid();
        return $$"""
            <div><div id="{{id}}"><!-- Plotly chart will be drawn inside this DIV --></div><script type="text/javascript">var renderPlotly_{{id:N}} = function() {
                var data = {{data}};
                var layout = {{layout}};
                var config = {{config}};
                Plotly.newPlot('{{id}}', data, layout, config);
            };
            renderPlotly_{{id:N}}();
            </script></div>
            """;
    }

    private static readonly JsonWriterOptions writerOptions = new()
    {
        // Inside a <script>: keep "<" escaped (no "</script>" can close the tag early) but leave other text readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default,
        SkipValidation = true,
    };

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, writerOptions))
            write(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value, int depth)
    {
        if (depth > 64) throw new InvalidOperationException("Plotly chart objects nest deeper than 64 levels (a reference loop?).");
        switch (value)
        {
            case null: writer.WriteNullValue(); return;
            case string s: writer.WriteStringValue(s); return;
            case bool b: writer.WriteBooleanValue(b); return;
            case double d: if (double.IsFinite(d)) writer.WriteNumberValue(d); else writer.WriteNullValue(); return;
            case float f: if (float.IsFinite(f)) writer.WriteNumberValue(f); else writer.WriteNullValue(); return;
            case int i: writer.WriteNumberValue(i); return;
            case long l: writer.WriteNumberValue(l); return;
            case short sh: writer.WriteNumberValue(sh); return;
            case byte by: writer.WriteNumberValue(by); return;
            case uint ui: writer.WriteNumberValue(ui); return;
            case ulong ul: writer.WriteNumberValue(ul); return;
            case decimal m: writer.WriteNumberValue(m); return;
            case char c: writer.WriteStringValue(c.ToString()); return;
            case DateTime t: writer.WriteStringValue(t.ToString("yyyy-MM-dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture)); return;
            case Color color: WriteValue(writer, color.Value, depth + 1); return;
            case DynamicObj.DynamicObj dyn: WriteDynamic(writer, dyn, depth); return;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, System.Globalization.CultureInfo.InvariantCulture) ?? "");
                    WriteValue(writer, entry.Value, depth + 1);
                }
                writer.WriteEndObject();
                return;
            case double[] doubles:
                writer.WriteStartArray();
                foreach (var d in doubles) { if (double.IsFinite(d)) writer.WriteNumberValue(d); else writer.WriteNullValue(); }
                writer.WriteEndArray();
                return;
            case IEnumerable sequence:
                writer.WriteStartArray();
                foreach (var item in sequence) WriteValue(writer, item, depth + 1);
                writer.WriteEndArray();
                return;
            default:
                // Anything else (an F# union, a record Plotly.NET serializes with its own converter): Newtonsoft, as Plotly.NET does.
                writer.WriteRawValue(Newtonsoft.Json.JsonConvert.SerializeObject(value), skipInputValidation: true);
                return;
        }
    }

    private static void WriteDynamic(Utf8JsonWriter writer, DynamicObj.DynamicObj dyn, int depth)
    {
        // The template is one shared object that every chart carries (the bulk of the JSON): write it once.
        if (dyn is Template)
            writer.WriteRawValue(cachedJson.GetValue(dyn, template => Write(writer => WriteProperties(writer, (DynamicObj.DynamicObj)template, 0))),
                                 skipInputValidation: true);
        else
            WriteProperties(writer, dyn, depth);
    }

    private static void WriteProperties(Utf8JsonWriter writer, DynamicObj.DynamicObj dyn, int depth)
    {
        writer.WriteStartObject();
        foreach (var property in dyn.GetProperties(true))
        {
            writer.WritePropertyName(property.Key);
            WriteValue(writer, property.Value, depth + 1);
        }
        writer.WriteEndObject();
    }
}
