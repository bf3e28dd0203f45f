/* loaxa report: what went on air over a month or a period (schedules/report.h),
 * in Vietnamese, as text for a terminal, CSV for a spreadsheet, or JSON. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "schedules/report.h"

static const struct option_spec specs[] = {
	{ "month", 1 }, { "from", 1 }, { "until", 1 }, { "category", 1 }, { "format", 1 },
	{ "separator", 1 }, { "lang", 1 }, { NULL, 0 },
};
static const char usage[] =
	"loaxa report (--month YYYY-MM | --from DATE --until DATE) [--category C]\n"
	"             [--format text|csv|html] [--separator C] [--lang vi|en] [--json]\n"
	"  DATE is dd/mm/yyyy or YYYY-MM-DD; --separator is the CSV's (default ',';\n"
	"  ';' is what Excel expects under a Vietnamese locale)";

/* The report's words, in Vietnamese (the default) or English (--lang en). */
struct words {
	const char *lang, *title, *period, *category, *scheduled, *name_column, *columns[7];
	const char *uncategorised, *total, *manual, *none, *by, *reason, *manual_columns[6];
	const char *days, *day_columns[5], *chain, *verify;
	const char *csv_header[10], *csv_title, *csv_category, *csv_total, *csv_chain;
	const char *hours, *minutes, *seconds;
	const char *nation, *motto, *dated, *heading, *subtitle, *signer, *signer_hint;
	const char *head, *head_hint;
};

static const struct words vietnamese = {
	.lang = "vi", .title = "BÁO CÁO KẾT QUẢ PHÁT THANH", .period = "Từ ngày %s đến ngày %s",
	.category = "Chuyên mục", .scheduled = "I. CÁC CHƯƠNG TRÌNH THEO LỊCH",
	.name_column = "Chuyên mục / chương trình",
	.columns = { "Kế hoạch", "Phát đủ", "Phát dở", "Bỏ lỡ", "Lỗi", "Tỷ lệ", "Thời lượng" },
	.uncategorised = "(chưa phân loại)", .total = "TỔNG CỘNG",
	.manual = "II. PHÁT THỦ CÔNG VÀ KHẨN CẤP", .none = "(không có)", .by = "người thực hiện",
	.reason = "lý do",
	.manual_columns = { "Thời gian", "Nội dung", "Mức", "Thời lượng", "Người thực hiện", "Lý do" },
	.days = "III. THEO NGÀY",
	.day_columns = { "Ngày", "Kế hoạch", "Đã phát", "Thủ công", "Thời lượng" },
	.chain = "Mã kiểm chứng nhật ký phát sóng (SHA-256, dòng thứ %.0f)",
	.verify = "kiểm tra lại bằng lệnh: loaxa log verify",
	.csv_header = { "Loại", "Chuyên mục", "Chương trình", "Kế hoạch", "Phát đủ", "Phát dở",
			"Bỏ lỡ", "Lỗi", "Số giây đã phát", "Tỷ lệ" },
	.csv_title = "chương trình", .csv_category = "chuyên mục", .csv_total = "tổng cộng",
	.csv_chain = "mã kiểm chứng", .hours = "giờ", .minutes = "phút", .seconds = "giây",
	.nation = "Cộng hòa xã hội chủ nghĩa Việt Nam", .motto = "Độc lập - Tự do - Hạnh phúc",
	.dated = "Ngày %.2s tháng %.2s năm %.4s", .heading = "BÁO CÁO",
	.subtitle = "Kết quả phát thanh từ ngày %s đến ngày %s", .signer = "NGƯỜI LẬP BÁO CÁO",
	.signer_hint = "(Ký, ghi rõ họ tên)", .head = "THỦ TRƯỞNG ĐƠN VỊ",
	.head_hint = "(Ký, ghi rõ họ tên, đóng dấu)",
};

static const struct words english = {
	.lang = "en", .title = "BROADCAST REPORT", .period = "From %s to %s", .category = "Category",
	.scheduled = "I. SCHEDULED PROGRAMMES", .name_column = "Category / programme",
	.columns = { "Planned", "Aired", "Partial", "Missed", "Failed", "Rate", "Time on air" },
	.uncategorised = "(no category)", .total = "TOTAL",
	.manual = "II. MANUAL AND EMERGENCY BROADCASTS", .none = "(none)", .by = "by",
	.reason = "reason",
	.manual_columns = { "Time", "Content", "Priority", "Time on air", "By", "Reason" },
	.days = "III. BY DAY", .day_columns = { "Date", "Planned", "Aired", "Manual", "Time on air" },
	.chain = "As-run log check code (SHA-256, row %.0f)",
	.verify = "check it with: loaxa log verify",
	.csv_header = { "Kind", "Category", "Programme", "Planned", "Aired", "Partial", "Missed",
			"Failed", "Seconds aired", "Rate" },
	.csv_title = "programme", .csv_category = "category", .csv_total = "total",
	.csv_chain = "check code", .hours = "h", .minutes = "min", .seconds = "s",
	.nation = "Socialist Republic of Vietnam", .motto = "Independence - Freedom - Happiness",
	.dated = "%.2s/%.2s/%.4s", .heading = "REPORT", .subtitle = "Broadcasts from %s to %s",
	.signer = "PREPARED BY", .signer_hint = "(signature, full name)", .head = "HEAD OF THE UNIT",
	.head_hint = "(signature, full name, seal)",
};

static const struct words *W = &vietnamese;

/* The period of the options into from/until; 0, or an exit status. */
static int read_period(const struct arguments *args, char from[11], char until[11])
{
	const char *month = option(args, specs, "month");
	const char *first = option(args, specs, "from"), *last = option(args, specs, "until");
	if (month && (first || last)) {
		fail_message("give either --month or --from and --until, not both");
		return EXIT_USAGE;
	}
	if (month) {
		char day_one[16];
		snprintf(day_one, sizeof day_one, "%.7s-01", month);
		if (strlen(month) != 7 || !tt_valid_date(day_one)) {
			fail_message("'%s' is not a month; use YYYY-MM, e.g. 2026-11", month);
			return EXIT_REFUSED;
		}
		snprintf(from, 11, "%s", day_one);
		char next[11];
		tt_add_days(from, 31, next);          /* into the next month */
		snprintf(next + 8, 3, "01");
		tt_add_days(next, -1, until);
		return 0;
	}
	if (!first && !last) {
		fail_message("say which period: --month YYYY-MM, or --from DATE --until DATE");
		return EXIT_USAGE;
	}
	return read_period_dates(first, last, from, until);
}

static double number(const cJSON *object, const char *key)
{
	const cJSON *item = cJSON_GetObjectItem(object, key);
	return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

static const char *text(const cJSON *object, const char *key)
{
	const cJSON *item = cJSON_GetObjectItem(object, key);
	return cJSON_IsString(item) ? item->valuestring : "";
}

/* YYYY-MM-DD as dd/mm/yyyy */
static void vietnamese_date(const char *date, char out[11])
{
	snprintf(out, 11, "%.2s/%.2s/%.4s", date + 8, date + 5, date);
}

/* "1 giờ 05 phút 03 giây", "12 phút 00 giây", "45 giây" (or h/min/s) */
static void vietnamese_duration(double seconds, char *out, size_t size)
{
	long long s = (long long)(seconds + 0.5);
	if (s >= 3600)
		snprintf(out, size, "%lld %s %02lld %s %02lld %s", s / 3600, W->hours, s / 60 % 60,
			 W->minutes, s % 60, W->seconds);
	else if (s >= 60)
		snprintf(out, size, "%lld %s %02lld %s", s / 60, W->minutes, s % 60, W->seconds);
	else
		snprintf(out, size, "%lld %s", s, W->seconds);
}

static void rate_text(const cJSON *object, char *out, size_t size)
{
	const cJSON *rate = cJSON_GetObjectItem(object, "rate");
	if (cJSON_IsNumber(rate))
		snprintf(out, size, "%.1f%%", rate->valuedouble * 100);
	else
		snprintf(out, size, "—");
}

static const char *category_name(const char *category)
{
	return *category ? category : W->uncategorised;
}

/* Prints text in a column `width` characters wide (UTF-8: a character is
 * counted once however many bytes it takes), left- or right-aligned. */
static void cell(const char *value, int width, int right)
{
	int length = 0;
	for (const char *p = value; *p; p++)
		length += ((unsigned char)*p & 0xC0) != 0x80;
	if (right)
		printf("%*s", width > length ? width - length : 0, "");
	fputs(value, stdout);
	if (!right)
		printf("%*s", width > length ? width - length : 0, "");
}

static void print_count_cells(const char *indent, const char *name, const char *const values[7])
{
	printf("%s", indent);
	cell(name, 44 - (int)strlen(indent), 0);
	for (int i = 0; i < 6; i++) {
		putchar(' ');
		cell(values[i], 9, 1);
	}
	printf("  %s\n", values[6]);
}

static void print_count_row(const char *indent, const char *name, const cJSON *counts)
{
	static const char *const keys[5] = { "planned", "aired", "partial", "missed", "failed" };
	char cells[7][64];
	const char *values[7];
	for (int i = 0; i < 5; i++)
		snprintf(cells[i], sizeof cells[i], "%.0f", number(counts, keys[i]));
	rate_text(counts, cells[5], sizeof cells[5]);
	vietnamese_duration(number(counts, "seconds_aired"), cells[6], sizeof cells[6]);
	for (int i = 0; i < 7; i++)
		values[i] = cells[i];
	print_count_cells(indent, name, values);
}

static void print_text(const cJSON *report)
{
	const cJSON *period = cJSON_GetObjectItem(report, "period");
	char from[11], until[11];
	vietnamese_date(text(period, "from"), from);
	vietnamese_date(text(period, "until"), until);
	printf("%s\n", W->title);
	printf(W->period, from, until);
	printf("\n");
	if (*text(report, "category"))
		printf("%s: %s\n", W->category, text(report, "category"));
	printf("\n%s\n", W->scheduled);
	print_count_cells("  ", W->name_column, W->columns);
	const cJSON *category;
	cJSON_ArrayForEach(category, cJSON_GetObjectItem(report, "categories")) {
		print_count_row("  ", category_name(text(category, "category")), category);
		const cJSON *title;
		cJSON_ArrayForEach(title, cJSON_GetObjectItem(category, "titles"))
			print_count_row("    - ", text(title, "title"), title);
	}
	print_count_row("  ", W->total, cJSON_GetObjectItem(report, "totals"));

	printf("\n%s\n", W->manual);
	const cJSON *manual = cJSON_GetObjectItem(report, "manual");
	if (cJSON_GetArraySize(manual) == 0)
		printf("  %s\n", W->none);
	const cJSON *row;
	cJSON_ArrayForEach(row, manual) {
		char date[11], duration[64];
		vietnamese_date(text(row, "date"), date);
		vietnamese_duration(number(row, "seconds"), duration, sizeof duration);
		printf("  %s ", date);
		print_local_time(stdout, (int64_t)number(row, "started_ns"), 0);
		printf("  %-9s %s — %s, %s: %s", text(row, "priority"), text(row, "title"), duration,
		       W->by, *text(row, "triggered_by") ? text(row, "triggered_by") : "?");
		if (*text(row, "reason"))
			printf("; %s: %s", W->reason, text(row, "reason"));
		printf("\n");
	}

	printf("\n%s\n  ", W->days);
	cell(W->day_columns[0], 10, 0);
	for (int i = 1; i < 4; i++) {
		putchar(' ');
		cell(W->day_columns[i], 9, 1);
	}
	printf("  %s\n", W->day_columns[4]);
	const cJSON *day;
	cJSON_ArrayForEach(day, cJSON_GetObjectItem(report, "days")) {
		char date[11], duration[64];
		vietnamese_date(text(day, "date"), date);
		vietnamese_duration(number(day, "seconds_aired"), duration, sizeof duration);
		printf("  %-10s %9.0f %9.0f %9.0f  %s\n", date, number(day, "planned"),
		       number(day, "airings"), number(day, "manual"), duration);
	}
	const cJSON *chain = cJSON_GetObjectItem(report, "chain");
	if (*text(chain, "head")) {
		printf("\n");
		printf(W->chain, number(chain, "seq"));
		printf(": %s\n(%s)\n", text(chain, "head"), W->verify);
	}
}

static void csv_counts(const char *kind, const char *category, const char *title,
		       const cJSON *counts, char separator)
{
	char cells[7][32];
	static const char *const keys[6] = { "planned", "aired", "partial", "missed", "failed",
					     "seconds_aired" };
	for (int i = 0; i < 5; i++)
		snprintf(cells[i], sizeof cells[i], "%.0f", number(counts, keys[i]));
	snprintf(cells[5], sizeof cells[5], "%.3f", number(counts, keys[5]));
	const cJSON *rate = cJSON_GetObjectItem(counts, "rate");
	snprintf(cells[6], sizeof cells[6], cJSON_IsNumber(rate) ? "%.4f" : "",
		 cJSON_IsNumber(rate) ? rate->valuedouble : 0);
	tt_csv_field(stdout, kind, separator, 0);
	tt_csv_field(stdout, category, separator, 0);
	tt_csv_field(stdout, title, separator, 0);
	for (int i = 0; i < 7; i++)
		tt_csv_field(stdout, cells[i], separator, i == 6);
}

/* One table, one header row: each line says what it counts (a title, a
 * category's sum, the total), so a spreadsheet can filter on it. */
static void print_csv(const cJSON *report, char separator)
{
	fputs("\xEF\xBB\xBF", stdout);   /* UTF-8 BOM: Excel reads the diacritics right */
	for (int i = 0; i < 10; i++)
		tt_csv_field(stdout, W->csv_header[i], separator, i == 9);
	const cJSON *category;
	cJSON_ArrayForEach(category, cJSON_GetObjectItem(report, "categories")) {
		const cJSON *title;
		cJSON_ArrayForEach(title, cJSON_GetObjectItem(category, "titles"))
			csv_counts(W->csv_title, text(category, "category"), text(title, "title"),
				   title, separator);
		csv_counts(W->csv_category, text(category, "category"), "", category, separator);
	}
	csv_counts(W->csv_total, "", "", cJSON_GetObjectItem(report, "totals"), separator);
	/* the chain's head, for `loaxa log verify` later */
	const cJSON *chain = cJSON_GetObjectItem(report, "chain");
	tt_csv_field(stdout, W->csv_chain, separator, 0);
	tt_csv_field(stdout, "", separator, 0);
	tt_csv_field(stdout, text(chain, "head"), separator, 1);
}

/* Text for HTML: the five characters that mean something there escaped. */
static void html(const char *value)
{
	for (const char *p = value; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", stdout); break;
		case '<': fputs("&lt;", stdout); break;
		case '>': fputs("&gt;", stdout); break;
		case '"': fputs("&quot;", stdout); break;
		case '\'': fputs("&#39;", stdout); break;
		default: putchar(*p);
		}
	}
}

static void html_count_row(const char *class, const char *name, const cJSON *counts)
{
	static const char *const keys[5] = { "planned", "aired", "partial", "missed", "failed" };
	char rate[16], duration[64];
	rate_text(counts, rate, sizeof rate);
	vietnamese_duration(number(counts, "seconds_aired"), duration, sizeof duration);
	printf("<tr class=\"%s\"><td>", class);
	html(name);
	printf("</td>");
	for (int i = 0; i < 5; i++)
		printf("<td class=\"n\">%.0f</td>", number(counts, keys[i]));
	printf("<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n", rate, duration);
}

/* One printable page (A4) in the shape of a Vietnamese administrative
 * report: who it is from, the national motto, the title and period, the
 * tables, the chain's head, and places to sign. */
static void print_html(const cJSON *report, const struct settings *settings)
{
	const cJSON *period = cJSON_GetObjectItem(report, "period");
	char from[11], until[11], today[11];
	vietnamese_date(text(period, "from"), from);
	vietnamese_date(text(period, "until"), until);
	char iso_today[11];
	tt_local_date(now_ns(), iso_today);
	vietnamese_date(iso_today, today);
	printf("<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">\n<title>%s %s – %s"
	       "</title>\n<style>\n"
	       "@page { size: A4; margin: 20mm 15mm 20mm 25mm; }\n"
	       "body { font-family: 'Times New Roman', 'DejaVu Serif', serif; font-size: 13pt;"
	       " color: #000; margin: 0; }\n"
	       ".head { display: flex; justify-content: space-between; text-align: center; }\n"
	       ".head > div { width: 48%%; } .upper { text-transform: uppercase; font-weight: bold; }\n"
	       ".motto { font-weight: bold; text-decoration: underline; }\n"
	       ".place { text-align: right; font-style: italic; margin: 6pt 0 12pt; }\n"
	       "h1 { text-align: center; font-size: 15pt; margin: 12pt 0 0; }\n"
	       "h2 { text-align: center; font-size: 13pt; font-weight: normal; margin: 2pt 0 12pt; }\n"
	       "h3 { font-size: 13pt; margin: 12pt 0 4pt; }\n"
	       "table { border-collapse: collapse; width: 100%%; font-size: 11pt; page-break-inside: auto; }\n"
	       "tr { page-break-inside: avoid; } thead { display: table-header-group; }\n"
	       "th, td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; }\n"
	       "th { background: #eee; } td.n { text-align: right; white-space: nowrap; }\n"
	       "tr.category td { font-weight: bold; } tr.total td { font-weight: bold; background: #eee; }\n"
	       ".chain { font-size: 9pt; word-break: break-all; margin-top: 10pt; }\n"
	       ".sign { display: flex; justify-content: space-between; text-align: center;"
	       " margin-top: 24pt; page-break-inside: avoid; }\n"
	       ".sign > div { width: 45%%; } .sign .room { height: 60pt; }\n"
	       "</style></head><body>\n", W->lang, W->title, from, until);
	printf("<div class=\"head\"><div><div class=\"upper\">");
	html(settings->organisation);
	printf("</div><div class=\"upper\">");
	html(settings->station_name);
	printf("</div></div><div><div class=\"upper\">%s</div><div class=\"motto\">%s</div></div>"
	       "</div>\n<p class=\"place\">", W->nation, W->motto);
	printf(W->dated, today, today + 3, today + 6);
	printf("</p>\n<h1>%s</h1>\n<h2>", W->heading);
	printf(W->subtitle, from, until);
	if (*text(report, "category")) {
		printf("<br>%s: ", W->category);
		html(text(report, "category"));
	}
	printf("</h2>\n");

	printf("<h3>%s</h3>\n<table><thead><tr><th>%s</th>", W->scheduled, W->name_column);
	for (int i = 0; i < 7; i++)
		printf("<th>%s</th>", W->columns[i]);
	printf("</tr></thead><tbody>\n");
	const cJSON *category;
	cJSON_ArrayForEach(category, cJSON_GetObjectItem(report, "categories")) {
		html_count_row("category", category_name(text(category, "category")), category);
		const cJSON *title;
		cJSON_ArrayForEach(title, cJSON_GetObjectItem(category, "titles"))
			html_count_row("title", text(title, "title"), title);
	}
	html_count_row("total", W->total, cJSON_GetObjectItem(report, "totals"));
	printf("</tbody></table>\n");

	printf("<h3>%s</h3>\n", W->manual);
	const cJSON *manual = cJSON_GetObjectItem(report, "manual");
	if (cJSON_GetArraySize(manual) == 0) {
		printf("<p>%s</p>\n", W->none);
	} else {
		printf("<table><thead><tr>");
		for (int i = 0; i < 6; i++)
			printf("<th>%s</th>", W->manual_columns[i]);
		printf("</tr></thead><tbody>\n");
	}
	const cJSON *row;
	cJSON_ArrayForEach(row, manual) {
		char date[11], duration[64];
		vietnamese_date(text(row, "date"), date);
		vietnamese_duration(number(row, "seconds"), duration, sizeof duration);
		printf("<tr><td class=\"n\">%s ", date);
		print_local_time(stdout, (int64_t)number(row, "started_ns"), 0);
		printf("</td><td>");
		html(text(row, "title"));
		printf("</td><td>%s</td><td class=\"n\">%s</td><td>", text(row, "priority"), duration);
		html(text(row, "triggered_by"));
		printf("</td><td>");
		html(text(row, "reason"));
		printf("</td></tr>\n");
	}
	if (cJSON_GetArraySize(manual) > 0)
		printf("</tbody></table>\n");

	printf("<h3>%s</h3>\n<table><thead><tr>", W->days);
	for (int i = 0; i < 5; i++)
		printf("<th>%s</th>", W->day_columns[i]);
	printf("</tr></thead><tbody>\n");
	const cJSON *day;
	cJSON_ArrayForEach(day, cJSON_GetObjectItem(report, "days")) {
		char date[11], duration[64];
		vietnamese_date(text(day, "date"), date);
		vietnamese_duration(number(day, "seconds_aired"), duration, sizeof duration);
		printf("<tr><td>%s</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td>"
		       "<td class=\"n\">%.0f</td><td class=\"n\">%s</td></tr>\n", date,
		       number(day, "planned"), number(day, "airings"), number(day, "manual"), duration);
	}
	printf("</tbody></table>\n");
	const cJSON *chain = cJSON_GetObjectItem(report, "chain");
	printf("<p class=\"chain\">");
	printf(W->chain, number(chain, "seq"));
	printf(": %s<br>%s</p>\n", *text(chain, "head") ? text(chain, "head") : "—", W->verify);
	printf("<div class=\"sign\"><div><b>%s</b><br><i>%s</i><div class=\"room\"></div></div>"
	       "<div><b>%s</b><br><i>%s</i><div class=\"room\"></div></div></div>\n</body></html>\n",
	       W->signer, W->signer_hint, W->head, W->head_hint);
}

int cmd_report(int argc, char **argv)
{
	struct arguments args;
	struct settings settings;
	int rc = begin_command(argc, argv, specs, usage, &args, &settings);
	if (rc >= 0)
		return rc;
	char from[11], until[11];
	if ((rc = read_period(&args, from, until)) != 0)
		return rc;
	const char *format = option(&args, specs, "format");
	const char *separator = option(&args, specs, "separator");
	const char *lang = option(&args, specs, "lang");
	if (lang && strcmp(lang, "vi") != 0 && strcmp(lang, "en") != 0) {
		fail_message("--lang is vi (the default) or en, not '%s'", lang);
		return EXIT_USAGE;
	}
	W = lang && strcmp(lang, "en") == 0 ? &english : &vietnamese;
	int is_html = format && strcmp(format, "html") == 0;
	if ((rc = check_table_format(is_html ? NULL : format, separator)) != 0)
		return rc;
	format = format ? format : "text";
	struct tt *tt = open_timetable(&settings, TT_OPEN_EXISTING);
	if (!tt)
		return EXIT_REFUSED;
	cJSON *report = tt_report(tt, from, until, option(&args, specs, "category"));
	if (!report) {
		fail_message("%s", tt_error(tt));
		tt_close(tt);
		return EXIT_REFUSED;
	}
	if (args.json) {
		char *json = cJSON_PrintUnformatted(report);
		printf("%s\n", json ? json : "null");
		free(json);
	} else if (strcmp(format, "csv") == 0) {
		print_csv(report, separator ? *separator : ',');
	} else if (strcmp(format, "html") == 0) {
		print_html(report, &settings);
	} else {
		print_text(report);
	}
	cJSON_Delete(report);
	tt_close(tt);
	return EXIT_OK;
}
