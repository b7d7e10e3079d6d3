package slackfake

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Block Kit limits Slack enforces on what an app sends, for the blocks and
// elements the fake knows well: a message or a modal real Slack refuses is
// refused here too, with a reason in Slack's style ("must be less than 76
// characters [json-pointer:/blocks/2/elements/0/text/text]"). Sources:
// https://api.slack.com/reference/block-kit/blocks (section, context,
// actions, header, input), https://api.slack.com/reference/block-kit/block-elements
// (button, plain_text_input, checkboxes, image) and
// https://api.slack.com/reference/block-kit/composition-objects (text,
// confirm, option). Lengths count characters.

// checkBlock checks one block at path; it returns why Slack refuses it, or "".
func checkBlock(b object, path string) string {
	switch b["type"] {
	case "section":
		// text: 1 to 3000 characters; fields: at most 10, each at most
		// 2000; one of them is required.
		if b["text"] == nil && b["fields"] == nil {
			return "must provide text or fields [json-pointer:" + path + "]"
		}
		if b["text"] != nil {
			if why := checkText(b["text"], path+"/text", 1, 3000, false); why != "" {
				return why
			}
		}
		if b["fields"] != nil {
			fieldText := func(f any, at string) string { return checkText(f, at, 1, 2000, false) }
			if _, why := checkList(b["fields"], path+"/fields", 10, fieldText); why != "" {
				return why
			}
		}
		if acc, ok := b["accessory"].(object); ok {
			return checkElement(acc, path+"/accessory")
		}
	case "context":
		// elements: 1 to 10 images and text objects.
		_, why := checkList(b["elements"], path+"/elements", 10, func(e any, at string) string {
			if el, _ := e.(object); el != nil && el["type"] == "image" {
				return checkElement(el, at)
			}
			return checkText(e, at, 1, 3000, false)
		})
		return why
	case "actions":
		// elements: 1 to 25 interactive elements.
		_, why := checkList(b["elements"], path+"/elements", 25, func(e any, at string) string {
			el, _ := e.(object)
			if el == nil {
				return "must be an object [json-pointer:" + at + "]"
			}
			return checkElement(el, at)
		})
		return why
	case "header":
		return checkText(b["text"], path+"/text", 1, 150, true)
	case "input":
		// label: plain_text, at most 2000; hint: plain_text, at most 2000.
		if why := checkText(b["label"], path+"/label", 1, 2000, true); why != "" {
			return why
		}
		if b["hint"] != nil {
			if why := checkText(b["hint"], path+"/hint", 1, 2000, true); why != "" {
				return why
			}
		}
		el, _ := b["element"].(object)
		if el == nil {
			return "missing required field: element [json-pointer:" + path + "]"
		}
		return checkElement(el, path+"/element")
	}
	return ""
}

// checkElement checks a block element at path.
func checkElement(el object, path string) string {
	switch el["type"] {
	case "button":
		// text: plain_text, at most 75; value: at most 2000; url: at most
		// 3000; style: primary or danger.
		if why := checkText(el["text"], path+"/text", 1, 75, true); why != "" {
			return why
		}
		if why := checkLen(el["value"], path+"/value", 0, 2000); why != "" {
			return why
		}
		if why := checkLen(el["url"], path+"/url", 0, 3000); why != "" {
			return why
		}
		if why := checkStyle(el["style"], path+"/style"); why != "" {
			return why
		}
	case "plain_text_input":
		// placeholder: plain_text, at most 150; min_length 0 to 3000;
		// max_length 1 to 3000; initial_value no longer than max_length.
		if el["placeholder"] != nil {
			if why := checkText(el["placeholder"], path+"/placeholder", 1, 150, true); why != "" {
				return why
			}
		}
		maxLen := 3000
		if v, present := el["max_length"]; present {
			n, ok := intOf(v)
			if !ok || n < 1 || n > 3000 {
				return "max_length must be 1 to 3000 [json-pointer:" + path + "/max_length]"
			}
			maxLen = n
		}
		if v, present := el["min_length"]; present {
			if n, ok := intOf(v); !ok || n < 0 || n > maxLen {
				return "min_length must be 0 to max_length [json-pointer:" + path + "/min_length]"
			}
		}
		if why := checkLen(el["initial_value"], path+"/initial_value", 0, maxLen); why != "" {
			return why
		}
	case "checkboxes":
		// options: 1 to 10; initial_options: among options, exactly.
		opts, why := checkList(el["options"], path+"/options", 10, checkOption)
		if why != "" {
			return why
		}
		if init, present := el["initial_options"]; present {
			list, ok := init.([]any)
			if !ok {
				return "must be an array [json-pointer:" + path + "/initial_options]"
			}
			for i, o := range list {
				if !containsOption(opts, o) {
					return fmt.Sprintf("must match one of the options [json-pointer:%s/initial_options/%d]", path, i)
				}
			}
		}
	case "image":
		// image_url: at most 3000; alt_text: required, at most 2000.
		if why := checkLen(el["image_url"], path+"/image_url", 1, 3000); why != "" {
			return why
		}
		if why := checkLen(el["alt_text"], path+"/alt_text", 1, 2000); why != "" {
			return why
		}
	}
	if el["confirm"] != nil {
		return checkConfirm(el["confirm"], path+"/confirm")
	}
	return ""
}

// checkConfirm checks a confirmation dialog: title at most 100, text at most
// 300, confirm and deny at most 30, all required; title, confirm and deny
// plain_text.
func checkConfirm(v any, path string) string {
	c, ok := v.(object)
	if !ok {
		return "must be an object [json-pointer:" + path + "]"
	}
	for _, f := range []struct {
		key   string
		max   int
		plain bool
	}{{"title", 100, true}, {"text", 300, false}, {"confirm", 30, true}, {"deny", 30, true}} {
		if why := checkText(c[f.key], path+"/"+f.key, 1, f.max, f.plain); why != "" {
			return why
		}
	}
	return checkStyle(c["style"], path+"/style")
}

// checkOption checks an option: text at most 75, value 1 to 150.
func checkOption(v any, path string) string {
	o, ok := v.(object)
	if !ok {
		return "must be an object [json-pointer:" + path + "]"
	}
	if why := checkText(o["text"], path+"/text", 1, 75, false); why != "" {
		return why
	}
	return checkLen(o["value"], path+"/value", 1, 150)
}

func containsOption(opts []any, v any) bool {
	o, _ := v.(object)
	for _, x := range opts {
		opt, _ := x.(object)
		if o != nil && opt != nil && o["value"] == opt["value"] && textOf(o["text"]) == textOf(opt["text"]) {
			return true
		}
	}
	return false
}

// checkList checks an array of 1 to max items, each by check at its own
// path, and returns it.
func checkList(v any, path string, max int, check func(item any, at string) string) ([]any, string) {
	list, ok := v.([]any)
	switch {
	case !ok || len(list) == 0:
		return nil, "must be a non-empty array [json-pointer:" + path + "]"
	case len(list) > max:
		return nil, fmt.Sprintf("must contain at most %d items [json-pointer:%s]", max, path)
	}
	for i, item := range list {
		if why := check(item, fmt.Sprintf("%s/%d", path, i)); why != "" {
			return nil, why
		}
	}
	return list, ""
}

// checkText checks a text object: plain_text (or mrkdwn when !plainOnly)
// with a text of min to max characters.
func checkText(v any, path string, min, max int, plainOnly bool) string {
	o, ok := v.(object)
	if !ok {
		return "must be a text object [json-pointer:" + path + "]"
	}
	switch o["type"] {
	case "plain_text":
	case "mrkdwn":
		if plainOnly {
			return "must be plain_text [json-pointer:" + path + "/type]"
		}
	default:
		return "must be plain_text or mrkdwn [json-pointer:" + path + "/type]"
	}
	if _, ok := o["text"].(string); !ok {
		return "missing required field: text [json-pointer:" + path + "]"
	}
	return checkLen(o["text"], path+"/text", min, max)
}

// checkLen checks an optional string of min to max characters (absent is
// fine when min is 0).
func checkLen(v any, path string, min, max int) string {
	s, ok := v.(string)
	if v != nil && !ok {
		return "must be a string [json-pointer:" + path + "]"
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < min:
		return fmt.Sprintf("must be at least %d characters [json-pointer:%s]", min, path)
	case n > max:
		return fmt.Sprintf("must be less than %d characters [json-pointer:%s]", max+1, path)
	}
	return ""
}

func checkStyle(v any, path string) string {
	switch v {
	case nil, "primary", "danger":
		return ""
	}
	return "must be primary or danger [json-pointer:" + path + "]"
}

func intOf(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case float64:
		return int(n), n == float64(int(n))
	}
	return 0, false
}
