package conf

import (
	"reflect"
	"testing"
)

func TestTemplatePlaceholders(t *testing.T) {
	tests := []struct {
		text    string
		want    []string
		wantErr string
	}{
		{"Hola {{name}}, tu pedido {{order}} está listo.", []string{"name", "order"}, ""},
		{"{{ name }} and {{name}} again", []string{"name"}, ""},
		{"no placeholders, {single} braces", nil, ""},
		{"", nil, ""},
		{"{{a_b-1}}{{B2}}", []string{"a_b-1", "B2"}, ""},
		{"Hola {{name}, tu pedido", nil, `"{{" at character 6 is never closed with "}}"`},
		{"está {{name", nil, `"{{" at character 6 is never closed with "}}"`},
		{"Hola {{name}, tu pedido {{order}}", nil, `"{{" at character 6 is never closed with "}}"`},
		{"Hola name}} x", nil, `"}}" without "{{" at character 10`},
		{"ok {{a}} then }}", nil, `"}}" without "{{" at character 15`},
		{"{{}}", nil, `placeholder {{}} at character 1: a name must be letters, digits, '_' or '-'`},
		{"{{first name}}", nil, `placeholder {{first name}} at character 1: a name must be letters, digits, '_' or '-'`},
	}
	for _, tt := range tests {
		tpl := Template{Text: tt.text}
		got, err := tpl.Placeholders()
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		if errText != tt.wantErr || tt.wantErr == "" && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Placeholders(%q) = %q, %q; want %q, %q", tt.text, got, errText, tt.want, tt.wantErr)
		}
	}
}

func TestTemplateRender(t *testing.T) {
	tpl := Template{Text: "Hola {{name}}, tu pedido {{ order }} está listo. {{name}}!"}
	text, missing := tpl.Render(map[string]string{"name": "Ana", "order": "A-7", "extra": "ignored"})
	if want := "Hola Ana, tu pedido A-7 está listo. Ana!"; text != want || missing != nil {
		t.Errorf("Render = %q, %q; want %q, nil", text, missing, want)
	}
	text, missing = tpl.Render(map[string]string{})
	if want := "Hola , tu pedido  está listo. !"; text != want || !reflect.DeepEqual(missing, []string{"name", "order"}) {
		t.Errorf("Render(empty) = %q, %q; want %q, [name order]", text, missing, want)
	}
}
